"""What attacks a DPF release: image reconstructors trained on the released featurizer."""
