"""What attacks unlearnable images: the unauthorized trainer, its counter-measures, the adaptive noise remover."""
