"""The train stage: one run from verified data to saved weights, epoch by epoch."""
