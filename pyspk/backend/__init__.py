"""Scoring and baseline back-ends: GMM-UBM, i-vectors, PLDA, SVM."""
