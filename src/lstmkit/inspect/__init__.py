"""Looking inside: plots of training and predictions, gate and attention heatmaps."""
