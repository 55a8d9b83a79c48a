from imageprivacy.training.classifier_training import TrainHistory, TrainRecipe, accuracy, train_classifier

__all__ = ["TrainHistory", "TrainRecipe", "accuracy", "train_classifier"]
