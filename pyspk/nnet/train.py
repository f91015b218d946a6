"""Training of the VGG speaker networks: softmax (+ center loss) with Adam on random 3 s crops.

One process on CPU or one GPU, or DDP when launched by ``torchrun`` (``WORLD_SIZE`` > 1): the same
command either way. Rank 0 validates (full-length identification accuracy on the validation data)
after every epoch and writes ``<exp>/last.pt`` (full training state) and ``<exp>/final.pt`` (the
best model by validation accuracy). The per-epoch seeding of every random generator from
(seed, epoch, rank) makes ``--resume true`` continue exactly as an uninterrupted run would.
"""
import dataclasses
import os
import time

import numpy as np
import torch
import torch.distributed as dist

from pyspk.device import pick_device
from pyspk.io.datadir import DataDir
from pyspk.io.tables import write_table
from pyspk.nnet.audio_crops import AudioCrops
from pyspk.nnet.checkpoint import CheckpointError, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from pyspk.nnet.data import EpochBatchSampler, TrainCrops
from pyspk.nnet.identify import identification_accuracy
from pyspk.nnet.losses import JointLoss
from pyspk.nnet.noise import NoiseInjector
from pyspk.nnet.vgg import build_model, count_parameters


@dataclasses.dataclass
class TrainOptions:
    """Train a VGG speaker network (Yadav & Rai 2018) on spectrogram features."""
    network: str = "B"                 # VGG config: A or B
    ndims: int = 128                    # bottleneck (embedding) size
    width: float = 1.0                  # channel multiplier (1.0 = the paper's network)
    dropout: float = 0.4
    center_loss_weight: float = 5.0     # lambda; 0 = softmax only
    center_rate: float = 0.5            # alpha, the centres' update rate
    epochs: int = 30
    batch_size: int = 128               # global batch (split over DDP processes)
    learning_rate: float = 0.001        # Adam, other settings default
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
    log_every: int = 20                 # steps between progress lines
    device: str = "auto"                # auto | cpu | cuda
    bf16: bool = True                   # bf16 autocast on CUDA (ignored on CPU)
    max_frames: int = 0                 # padded frames per validation batch (0: auto, 40000 on GPU)


def _seed(*parts):
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def _distributed(device_name):
    """(rank, world_size, device) from torchrun's environment; initialises the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, pick_device(device_name)
    local_rank = int(os.environ["LOCAL_RANK"])
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world, device


def training_utterances(train, valid, log=print):
    """``utt -> label`` of the training data without the validation utterances, and the speakers."""
    speakers = train.speakers
    label_of = {spk: i for i, spk in enumerate(speakers)}
    unknown = sorted(set(valid.speakers) - set(speakers))
    if unknown:
        raise ValueError(f"{valid.path}: validation speakers not in {train.path}: {', '.join(unknown[:5])}")
    held_out = set(valid.utts) & set(train.utts)
    if held_out:
        log(f"excluding {len(held_out)} validation utterance(s) of {valid.path} from training")
    utt2label = {u: label_of[s] for u, s in train.utt2spk.items() if u not in held_out}
    return utt2label, speakers


class Trainer:
    """The model, objective, optimiser and data of one run; ``run()`` trains the remaining epochs."""

    def __init__(self, opts, train_dir, valid_dir, exp_dir, log=print):
        self.opts, self.exp_dir, self.log = opts, exp_dir, log
        self.rank, self.world, self.device = _distributed(opts.device)
        self.cuda = self.device.type == "cuda"
        self.valid = DataDir(valid_dir)
        utt2label, self.speakers = training_utterances(DataDir(train_dir), self.valid, log)
        crops = {"feats": TrainCrops, "audio": AudioCrops}.get(opts.feature_source)
        if crops is None:
            raise ValueError(f"--feature-source must be feats or audio, not {opts.feature_source!r}")
        noise = (NoiseInjector(opts.noise_prob, opts.snr_min, opts.snr_max, opts.noise_data, opts.feature_source)
                 if opts.noise_prob > 0 else None)
        self.dataset = crops(train_dir, utt2label, opts.crop_frames, noise, opts.seed, opts.short_utterances)
        self.front_end = self.dataset.front_end().to(self.device)  # batch on the device -> network input
        self.sampler = EpochBatchSampler(len(self.dataset), opts.batch_size, opts.seed, self.rank, self.world)
        self.loader = torch.utils.data.DataLoader(
            self.dataset, batch_sampler=self.sampler, num_workers=opts.num_workers, pin_memory=self.cuda,
            persistent_workers=opts.num_workers > 0, prefetch_factor=4 if opts.num_workers else None)
        torch.backends.cudnn.benchmark = self.cuda  # fixed-size training crops: let cuDNN pick kernels
        torch.manual_seed(opts.seed)
        self.arch = dict(config=opts.network, n_classes=len(self.speakers), ndims=opts.ndims,
                         width=opts.width, dropout=opts.dropout)
        self.model = build_model(**self.arch).to(self.device, memory_format=torch.channels_last)
        self.objective = JointLoss(len(self.speakers), opts.ndims, opts.center_loss_weight,
                                   opts.center_rate).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=opts.learning_rate)
        self.epoch, self.step, self.best = 0, 0, (-1.0, 0)
        last = os.path.join(exp_dir, "last.pt")
        if opts.resume and os.path.exists(last):
            self._restore(last)
        elif opts.resume:
            log(f"--resume: no {last} yet, starting from scratch")
        self.net = self.model
        if self.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.cuda else None)
        log(f"network {opts.network} width {opts.width}: {count_parameters(self.model):,} parameters, "
            f"{len(self.speakers)} classes, {len(self.dataset)} training utterances, "
            f"{len(self.sampler)} steps/epoch of {opts.batch_size}, device {self.device}, {self.world} process(es)")

    def _restore(self, path):
        state = load_checkpoint(path, map_location=self.device)
        if state["arch"] != self.arch or state["speakers"] != self.speakers:
            raise CheckpointError(f"{path}: made for {state['arch']} with {len(state['speakers'])} speakers; "
                                  f"these options and data give {self.arch} with {len(self.speakers)}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.objective.load_state_dict(state["loss"])
        self.epoch, self.step, self.best = state["epoch"], state["step"], tuple(state["best"])
        set_rng_state(state["rng"])
        self.log(f"resumed from {path}: {self.epoch} epoch(s), {self.step} steps done, "
                 f"best validation accuracy {self.best[0]:.2f}% (epoch {self.best[1]})")

    def _state(self, full):
        state = {"arch": self.arch, "speakers": self.speakers, "model": self.model.state_dict(),
                 "options": dataclasses.asdict(self.opts), "epoch": self.epoch, "step": self.step,
                 "best": list(self.best)}
        if full:
            state.update(optimizer=self.optimizer.state_dict(), loss=self.objective.state_dict(), rng=rng_state())
        return state

    def train_step(self, x, y):
        """One optimiser step on a batch already on the device -> (loss, logits), both undetached."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cuda and self.opts.bf16):
            logits, embeddings = self.net(x)
        loss, _ = self.objective(logits, embeddings, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.objective.update(embeddings.detach(), y)
        self.step += 1
        return loss, logits

    def train_epoch(self):
        """One pass over the shuffled training crops -> (mean loss, accuracy %)."""
        opts = self.opts
        self.net.train()
        self.sampler.set_epoch(self.epoch)
        totals = torch.zeros(3, device=self.device)  # loss sum, correct, samples
        window = torch.zeros(3, device=self.device)
        tick = time.perf_counter()
        for i, (x, y) in enumerate(self.loader, 1):
            x = self.front_end(x.to(self.device, non_blocking=True, memory_format=torch.channels_last))
            y = y.to(self.device, non_blocking=True)
            loss, logits = self.train_step(x, y)
            window += torch.stack([loss.detach().float() * len(y), (logits.argmax(1) == y).sum().float(),
                                   torch.tensor(float(len(y)), device=self.device)])
            if i % opts.log_every == 0 or i == len(self.sampler):
                loss_sum, correct, n = window.tolist()
                seconds = time.perf_counter() - tick
                self.log(f"epoch {self.epoch + 1} step {i}/{len(self.sampler)} (total {self.step}): "
                         f"loss {loss_sum / n:.4f} accuracy {100 * correct / n:.2f}% "
                         f"{n * self.world / seconds:.1f} samples/s")
                totals += window
                window.zero_()
                tick = time.perf_counter()
        loss_sum, correct, n = totals.tolist()
        return loss_sum / n, 100 * correct / n

    def run(self):
        """Train epochs ``epoch + 1 .. opts.epochs``, validating and checkpointing after each."""
        if self.rank == 0:
            write_table(os.path.join(self.exp_dir, "spk2label"),
                        [[spk, str(i)] for i, spk in enumerate(self.speakers)])
        if self.epoch >= self.opts.epochs:
            self.log(f"already trained {self.epoch} epoch(s); nothing to do")
        while self.epoch < self.opts.epochs:
            torch.manual_seed(_seed(self.opts.seed, self.epoch, self.rank))
            start = time.perf_counter()
            loss, accuracy = self.train_epoch()
            self.epoch += 1
            if self.rank == 0:
                self._validate_and_save(loss, accuracy, time.perf_counter() - start)
            if self.world > 1:
                dist.barrier()
        if self.world > 1:
            dist.destroy_process_group()
        return self.best

    def _validate_and_save(self, loss, accuracy, seconds):
        self.model.eval()
        top, n = identification_accuracy(self.model, self.valid.path, self.valid.utt2spk, self.speakers,
                                         self.device, self.opts.max_frames, ks=(1,), log=self.log)
        improved = top[1] > self.best[0]
        if improved:
            self.best = (top[1], self.epoch)
        self.log(f"epoch {self.epoch}/{self.opts.epochs}: train loss {loss:.4f} accuracy {accuracy:.2f}% "
                 f"({seconds:.1f} s); validation top-1 {top[1]:.2f}% of {n} utterances"
                 f"{' (best so far)' if improved else f'; best {self.best[0]:.2f}% at epoch {self.best[1]}'}")
        if improved:
            save_checkpoint(os.path.join(self.exp_dir, "final.pt"), self._state(full=False))
        save_checkpoint(os.path.join(self.exp_dir, "last.pt"), self._state(full=True))
