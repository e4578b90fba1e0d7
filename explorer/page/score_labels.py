"""How the pages name the anomaly scores and the probe sets, which scores colour the latent map, and the one line
that says what each score measures. Every page and the address bar's schema take them from here."""
from __future__ import annotations

import vae_core as vc

# vc.SCORES in the order the pages offer them
SCORE_LABELS = {"neg_elbo": "−ELBO", "reconstruction": "reconstruction error", "kl": "KL", "iwae": "IWAE −log p(x)",
                "corrected": "corrected score"}
SHORT_LABELS = {"reconstruction": "recon.", "iwae": "IWAE", "corrected": "corrected"}  # the AUROC table's headers
# The latent map's colourings: by label, or by one of these scores
COLOUR_BY = ("label", "neg_elbo", "kl", "reconstruction", "corrected")
COLOUR_LABELS = {"label": "label"} | {score: SCORE_LABELS[score] for score in COLOUR_BY[1:]}
PROBE_LABELS = {"noise": "uniform noise", "inverted": "inverted digits", "nearly_blank": "nearly blank",
                "strokes": "strokes", "dots": "dots", "rotated_90": "rotated 90°", "rotated_180": "rotated 180°",
                "letters": "letters and symbols"}


def score_explanation(score: str, complexity: vc.Complexity, iwae_k: int) -> str:
    """One line (Markdown) on what `score` measures; higher is always more anomalous, in nats."""
    return {
        "neg_elbo": "**−ELBO** = reconstruction + KL: the nats the VAE spends on the image (one sample of z). "
                    "The loss it was trained on.",
        "reconstruction": "**Reconstruction** −E_q[log p(x|z)]: how badly the decoder redraws the image from its code "
                          "(Bernoulli cross-entropy, nats).",
        "kl": "**KL**(q(z|x) ‖ p(z)): how far the image's code lies from the prior N(0, I) -- an unusual place in the "
              "latent space, not unusual pixels.",
        "iwae": f"**IWAE −log p(x)**: the model's likelihood of the image, estimated with k = {iwae_k} importance "
                "samples (a tighter bound than −ELBO). Like every likelihood, it finds simple images typical.",
        "corrected": f"**Corrected** = −log p(x) − w · L(x), L(x) = zlib's length of the image at q = {complexity.levels} "
                     f"grey levels, in nats; w = {complexity.weight:.3g} (Serrà et al. 2020). Subtracting how simple "
                     "the image is stops a blank image or a single stroke from looking typical.",
    }[score]
