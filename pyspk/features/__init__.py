"""Middle floor: spectrogram, MFCC, energy VAD, transforms, and the streaming extraction driver."""
