"""DeepObfuscator (Li et al.): an obfuscator trained against image reconstruction and attribute inference."""
from imageprivacy.protections.obfuscator.adversarial_training import AdversarialConfig, noise_image, train_adversarially
from imageprivacy.protections.obfuscator.deep_obfuscator import DeepObfuscator
from imageprivacy.protections.obfuscator.encoding import encode_files, read_features, write_features
from imageprivacy.protections.obfuscator.feature_noise import FeatureNoise
from imageprivacy.protections.obfuscator.image_noise import ImageNoise, calibrate_noise_std
from imageprivacy.protections.obfuscator.obfuscator import Obfuscator, load_classifier, save_classifier
from imageprivacy.protections.obfuscator.pretraining import pretrain_adversaries, pretrain_task_model

__all__ = ["AdversarialConfig", "DeepObfuscator", "FeatureNoise", "ImageNoise",
           "Obfuscator", "calibrate_noise_std", "encode_files",
           "load_classifier", "noise_image", "pretrain_adversaries", "pretrain_task_model", "read_features",
           "save_classifier", "train_adversarially", "write_features"]
