"""Constants shared with the control plane: limits and worker environment names."""
