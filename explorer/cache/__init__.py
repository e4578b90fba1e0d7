"""Everything the pages compute, cached per model (every function takes a ModelKey first) and shared by every session: the
checkpoint and data (models), the anomaly scores (anomaly_scores), the Compare page's figures (comparison), the large
figures of the latent map, decoder grid and interpolation (figures), the digit pictures those pages show every session
alike (digit_pictures), drawn and uploaded pictures as digits (drawn_digits), the Holes page's (holes), the overview's
curves and digits (overview), the training film (training_film), the latent map's pictures and CSV (map_pictures),
repairs (repairs) and slide files (slide_files). The heavy computations among them are shared background jobs (jobs),
their results kept on disk for every worker of a room (result_store). Each cache is one vae_core call; pages call them
as `cache.name(key, ...)`; the settings the caches key on are read from their modules (`cache.anomaly_scores.IWAE_K`),
where tests change them."""

from explorer.cache.anomaly_scores import (  # noqa: F401
    anomaly_complexity,
    digit_like_probes,
    digit_scores,
    extreme_digits,
    probe_aurocs,
    probe_images,
    probe_rocs,
    probe_scores,
    test_scores,
    test_scores_ready,
)
from explorer.cache.comparison import (  # noqa: F401
    comparison_figures,
    finished_iwae,
    iwae_nll,
    submit_iwae,
)
from explorer.cache.digit_pictures import (  # noqa: F401
    decoded_picture,
    interpolation_frame,
    interpolation_strips,
    reconstruction_picture,
    test_digit_picture,
)
from explorer.cache.drawn_digits import (  # noqa: F401
    canvas_max_bytes,
    picture_digit,
)
from explorer.cache.figures import (  # noqa: F401
    LATENT_MAP_HEIGHT,
    decoder_grid,
    first_latent_maps,
    interpolation_map,
    latent_map,
)
from explorer.cache.holes import (  # noqa: F401
    holes_density_figures,
    holes_density_grid,
    holes_gallery,
    holes_kl,
    holes_map_figure,
    holes_prior_samples,
)
from explorer.cache.map_pictures import (  # noqa: F401
    map_csv,
    map_digits,
)
from explorer.cache.models import (  # noqa: F401
    class_label_places,
    decoded_grid,
    drawn_digit,
    embedding_metrics,
    grid_picture,
    interpolation,
    latent_backdrop,
    load_model,
    mnist,
    pca_codes,
    pca_test_codes,
    test_latents,
)
from explorer.cache.overview import (  # noqa: F401
    overview_curves,
    overview_digits,
    overview_prior_samples,
)
from explorer.cache.repairs import (  # noqa: F401
    KNN_POOL,
    repair,
)
from explorer.cache.slide_files import (  # noqa: F401
    film_gif,
    grid_slide_png,
    interpolation_gif,
    latent_map_png,
)
from explorer.cache.training_film import (  # noqa: F401
    film,
    film_chart,
)
