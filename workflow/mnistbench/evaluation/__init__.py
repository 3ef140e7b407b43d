"""The evaluate stage: trained weights scored on the test set."""
