"""ConfounderGAN and its baselines under attack: the paper suite, the sweep, the demo, the full-scale targets."""
