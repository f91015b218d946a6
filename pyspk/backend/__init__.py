"""Baseline back-ends, one job a module:

- ``gmm``: diagonal GMM model, file, log-likelihoods, ML re-estimation; ``full_gmm``: the same for
  full covariances (and ``load_ubm`` for either kind);
- ``gmm_stats``: top-C posteriors and EM statistics; ``em_stats``: the statistics base (``+=``, files);
- ``gmm_init``: UBM starts (k-means++, splitting) and reservoir sampling of frames;
- ``gmm_ubm``: MAP adaptation and the frame log-likelihood ratio (GMM-UBM verification);
- ``baum_welch``: per-utterance statistics under a fixed alignment, and their archive;
- ``ivector``: the total-variability model, i-vector posteriors, its EM statistics and M-step;
- ``symmetric``: packed symmetric matrices; ``frames``: the MFCC frames every baseline sees;
- ``plda``: LDA and two-covariance PLDA; ``svm``: SVM identification.
"""
