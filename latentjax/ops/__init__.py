"""Pure array functions (no parameters owned here): the math of both generators."""
