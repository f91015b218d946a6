"""The options of a CNN training (``pyspk.nnet.train.Trainer``), one dataclass field per ``--key``.

Defaults are the paper's (Yadav & Rai 2018: Network B, 128-d bottleneck, softmax + center loss with
lambda 5 and alpha 0.5, Adam at 1e-3, 3 s crops); every addition (schedules, SpecAugment, margin losses,
averaging, weight decay) is off by default. Units: epochs (may be fractional where named so), frames of
10 ms, dB.
"""
import dataclasses


@dataclasses.dataclass
class TrainOptions:
    """Train a VGG speaker network (Yadav & Rai 2018) on spectrogram features."""
    network: str = "B"                 # VGG config: A or B
    ndims: int = 128                    # bottleneck (embedding) size
    width: float = 1.0                  # channel multiplier (1.0 = the paper's network)
    dropout: float = 0.4                # before the bottleneck and before the softmax classifier
    loss: str = "softmax"               # classification loss: softmax (the paper) | am_softmax | aam_softmax
    margin: float = 0.2                 # AM-softmax (cosine) / AAM-softmax (radians) margin
    scale: float = 30.0                 # AM/AAM-softmax scale s
    center_loss_weight: float = 5.0     # lambda; 0 = no center loss
    center_rate: float = 0.5            # alpha, the centres' update rate
    center_loss_warmup_epochs: float = 0.0  # ramp lambda up linearly over these epochs (0: off)
    center_loss_normalize: bool = False  # center loss on the L2-normalised embeddings (cosine's vectors)
    epochs: int = 30
    batch_size: int = 128               # global batch (split over DDP processes)
    learning_rate: float = 0.001        # Adam, other settings default
    lr_schedule: str = "constant"       # constant | cosine | step (after the warm-up)
    warmup_epochs: float = 0.0          # linear learning-rate warm-up (0: off)
    min_learning_rate: float = 0.0      # floor of the cosine and step schedules
    lr_decay_epochs: float = 10.0       # step schedule: multiply by --lr-decay-factor every N epochs
    lr_decay_factor: float = 0.1
    weight_decay: float = 0.0           # Adam's L2 penalty on every weight (0: off, the paper)
    spec_augment: bool = False          # zero random frequency / time stripes of each crop
    freq_masks: int = 1                 # SpecAugment: frequency stripes per crop
    freq_mask_width: int = 16           # at most this many bins each
    time_masks: int = 1                 # SpecAugment: time stripes per crop
    time_mask_width: int = 10           # at most this many frames each
    average_last: int = 0               # final.pt = mean of the last K epochs' models (0: best epoch)
    crop_frames: int = 301              # 3 s at a 10 ms hop
    short_utterances: str = "error"     # utterances shorter than the crop: error | pad | skip
    noise_prob: float = 0.5             # probability of noise injection per crop
    snr_min: float = 5.0                # dB
    snr_max: float = 20.0               # dB
    noise_data: str = ""                # optional data dir of noise spectrograms (e.g. MUSAN)
    feature_source: str = "feats"       # feats: stored feats.scp | audio: wav.scp, spectrogram on the device
    num_workers: int = 4                # data loader processes (0 = in the training process)
    seed: int = 777
    resume: bool = False                # continue from <exp>/last.pt when it exists
    log_every: int = 20                 # steps between progress lines (the only host-device syncs)
    device: str = "auto"                # auto | cpu | cuda
    bf16: bool = True                   # bf16 autocast of the network on CUDA (ignored on CPU)
    compile: bool = False               # torch.compile the network for training
    sync_bn: bool = False               # synchronised BatchNorm over DDP processes (small per-GPU batches)
    max_frames: int = 0                 # padded frames per validation batch (0: auto, 40000 on GPU)
