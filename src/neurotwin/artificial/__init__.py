"""The backprop world: networks built from Synapses and trained by gradient descent."""
