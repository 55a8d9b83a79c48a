from imageprivacy.training.adversarial import pgd_examples
from imageprivacy.training.classifier_training import TrainHistory, TrainRecipe, accuracy, train_classifier
from imageprivacy.training.mixing import MIXES, MixedBatch, mix_batch

__all__ = ["MIXES", "MixedBatch", "TrainHistory", "TrainRecipe", "accuracy", "mix_batch", "pgd_examples",
           "train_classifier"]
