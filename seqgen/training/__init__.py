from .trainer import Event, Trainer, TrainingDiverged, TrainResult, seed_everything

__all__ = ["Event", "Trainer", "TrainingDiverged", "TrainResult", "seed_everything"]
