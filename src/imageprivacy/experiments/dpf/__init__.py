"""The DPF paper's experiment: train Phi, psi and P in cached stages, release, then its tables and ablations."""
