"""The gradkata exercises: fill in every function marked TODO, one module at a time."""
