"""The paper's network: VGG models, losses, training, identification and embedding extraction."""
