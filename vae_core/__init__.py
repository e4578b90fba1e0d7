"""VAE Latent Explorer core: train, save, load and look inside a 2-D latent MNIST VAE (no UI code here)."""
from .analysis import (
                       decode,
                       decode_grid,
                       encode,
                       encodings_to_store,
                       fit_pca,
                       grid_axes,
                       images_digest,
                       interpolate,
                       iwae_log_likelihood,
                       pca_2d,
                       per_image_elbo,
                       pixel_blend,
                       project_pca,
                       reconstruct,
                       sample_prior,
                       stored_or_fresh_encodings,
                       tile,
)
from .checkpoint import (
                       FORMAT_VERSION,
                       Checkpoint,
                       CheckpointConfigError,
                       CheckpointCorruptError,
                       CheckpointDiskFullError,
                       CheckpointError,
                       CheckpointExistsError,
                       CheckpointFieldError,
                       CheckpointMismatchError,
                       CheckpointNotAFileError,
                       CheckpointNotFoundError,
                       CheckpointTooLargeError,
                       CheckpointUnreadableError,
                       CheckpointUnsafeError,
                       CheckpointUnsupportedError,
                       CheckpointVersionError,
                       NotACheckpointError,
                       load_checkpoint,
                       remove_stale_temp_files,
                       save_checkpoint,
)
from .config import ARCHITECTURES, ConfigError, ModelConfig, TrainConfig
from .data import (
                       DATA_ENV,
                       DOWNLOAD_COMMAND,
                       MnistNotFoundError,
                       data_dir,
                       download_mnist,
                       load_mnist,
                       mnist_missing_advice,
)
from .file_lock import FolderBusyError, training_lock
from .limits import LIMITS, Limits, chunk_size, parameter_count
from .metrics import compare_embeddings, embedding_quality, evaluate_model, knn_accuracy, pca_codes, trust
from .model import VAE, kl_divergence, negative_elbo
from .train import (
                       BUDGET_ENV,
                       Progress,
                       TrainingCancelled,
                       TrainingDiverged,
                       TrainingTimeout,
                       TrainResult,
                       device_problem,
                       estimate_training_seconds,
                       evaluate_loss,
                       max_train_minutes,
                       pick_device,
                       train,
)

__all__ = [name for name in dir() if not name.startswith("_")]
