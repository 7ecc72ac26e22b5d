"""Reference solutions for the gradkata exercises, one module per exercise."""
