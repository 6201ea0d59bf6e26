from .publish import save_trained
from .trainer import Event, Trainer, TrainingDiverged, TrainResult, seed_everything

__all__ = ["Event", "Trainer", "TrainingDiverged", "TrainResult", "save_trained", "seed_everything"]
