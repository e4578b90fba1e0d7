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
from .anomaly import (
                       SCORES,
                       Complexity,
                       anomaly_scores,
                       auroc,
                       calibrate,
                       compressed_length,
                       fit_complexity,
                       roc,
                       share_more_anomalous,
)
from .atlas import digits_picture, frame_colours, spread_picks, tile_size
from .baselines import knn_fill, mean_fill, median_filter
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
from .comparison import ACTIVE_THRESHOLD, COMPARED_FIGURES, active_units, best_of, iwae_nll, model_figures
from .config import ARCHITECTURES, ConfigError, ModelConfig, TrainConfig
from .corruption import (
                       STANDARD_CORRUPTIONS,
                       Corruption,
                       damaged,
                       gaussian_noise,
                       missing_half,
                       missing_rectangle,
                       salt_and_pepper,
)
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
from .film import (
                       FILM_EXTENT,
                       FILM_GRID,
                       FILM_STEPS,
                       FilmError,
                       FilmRecorder,
                       decoded_grid_picture,
                       frame_caption,
                       frame_grid,
                       frame_steps,
                       has_film,
                       has_grids,
)
from .holes import (
                       DensityGrid,
                       KLEstimate,
                       aggregate_kl,
                       density_grid,
                       gallery_picks,
                       hole_share,
                       log_aggregate_posterior,
                       log_prior,
                       prior_density_ratio,
)
from .limits import LIMITS, Limits, chunk_size, parameter_count
from .map_table import map_table
from .metrics import (
                       BINARIZE_SEED,
                       binarize,
                       binarized_figures,
                       compare_embeddings,
                       embedding_quality,
                       evaluate_model,
                       knn_accuracy,
                       pca_codes,
                       trust,
)
from .model import VAE, kl_divergence, negative_elbo
from .pixel_classifier import PixelClassifier, cached_pixel_classifier, train_pixel_classifier
from .preprocess import ImageRejected, NothingDrawn, centre_by_mass, load_upload, to_mnist
from .probes import PROBE_NAMES, letter_characters, letters, probe_sets
from .repair import LatentGrid, denoise, impute, latent_grid, posterior_repair
from .reports import auroc_table
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

# isort: split
# issue 18: training presets and the schedule/thread helpers behind them
from .presets import PRESET_FILM_DIGITS, PRESETS, QUICK, Preset
from .train import cpu_threads, lr_scheduler

__all__ = [name for name in dir() if not name.startswith("_")]
