"""The generated demo retail network behind `make demo`."""
