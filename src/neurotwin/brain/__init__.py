"""The biological world: local plasticity rules and brain-like networks."""
