"""Neural networks: classifier backbones by name (registry), plus the ConfounderGAN generator and discriminator."""
from imageprivacy.nets.registry import NETS, build_net, count_parameters

__all__ = ["NETS", "build_net", "count_parameters"]
