"""Host side of the sandbox: build the candidate image, run hardened one-shot job containers."""
