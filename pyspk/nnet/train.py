"""Training of the VGG speaker networks: a classification loss (+ center loss) with Adam on random crops.

One process on CPU or one GPU, or DDP when launched by ``torchrun`` (``WORLD_SIZE`` > 1): the same
command either way; the options are :class:`pyspk.nnet.train_options.TrainOptions`. After every epoch
all processes validate (full-length identification accuracy on the validation data, each process a
share of the utterances) and rank 0 writes the exp dir's checkpoints (``last.pt``: full training state;
``final.pt``: the best model by validation accuracy, or with ``--average-last K`` the average of the
last K epochs' models, validated and logged beside the best single epoch; pyspk.nnet.epoch_checkpoints).
The per-epoch seeding of every random generator from (seed, epoch, rank) and the per-step schedules
make ``--resume true`` continue exactly as an uninterrupted run would.
"""
import dataclasses
import datetime
import logging
import os
import time

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from pyspk.io.datadir import DataDir
from pyspk.io.tables import write_table
from pyspk.nnet.audio_crops import AudioCrops
from pyspk.nnet.augment import spec_augment
from pyspk.nnet.checkpoint import CheckpointError, load_checkpoint, rng_state, set_rng_state
from pyspk.nnet.data import EpochBatchSampler, TrainCrops, read_feats_scp
from pyspk.nnet.distributed import init_distributed
from pyspk.nnet.epoch_checkpoints import EpochCheckpoints
from pyspk.nnet.identify import identification_ranks
from pyspk.nnet.losses import JointLoss, head_options
from pyspk.nnet.noise import NoiseInjector
from pyspk.nnet.resume import resume_changes
from pyspk.nnet.schedule import center_loss_weight, options_learning_rate
from pyspk.nnet.vgg import build_model, count_parameters

logger = logging.getLogger(__name__)


def _seed(*parts):
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def training_utterances(train, valid):
    """``utt -> label`` of the training data without the validation utterances, and the speakers.

    Checked before any compute: validation utterances with features, validation speakers among the
    training speakers, and at least 2 training speakers left."""
    if not valid.utts:
        raise ValueError(f"{valid.path}: no validation utterances")
    read_feats_scp(valid.path, valid.utts)
    speakers = train.speakers
    label_of = {spk: i for i, spk in enumerate(speakers)}
    unknown = sorted(set(valid.speakers) - set(speakers))
    if unknown:
        raise ValueError(f"{valid.path}: validation speakers not in {train.path}: {', '.join(unknown[:5])}")
    held_out = set(valid.utts) & set(train.utts)
    if held_out:
        logger.info(f"excluding {len(held_out)} validation utterance(s) of {valid.path} from training")
    utt2label = {u: label_of[s] for u, s in train.utt2spk.items() if u not in held_out}
    if len(set(utt2label.values())) < 2:
        raise ValueError(f"{train.path}: {len(set(utt2label.values()))} training speaker(s) left after holding out "
                         f"the validation utterances; a speaker classifier needs at least 2")
    return utt2label, speakers


class _Network(nn.Module):
    """The network and its objective as one module (what DDP wraps): ``forward(x, labels, center_weight)``
    -> (loss, logits without margin, embeddings). Autocast covers the network only; the loss is float32."""

    def __init__(self, model, objective, bf16):
        super().__init__()
        self.model, self.objective, self.bf16 = model, objective, bf16

    def forward(self, x, labels, center_weight):
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            embeddings = self.model(x)
        loss, _, logits = self.objective(embeddings.float(), labels, center_weight)
        return loss, logits, embeddings


class Trainer:
    """The model, objective, optimiser and data of one run; ``run()`` trains the remaining epochs."""

    def __init__(self, opts, train_dir, valid_dir, exp_dir):
        self.opts, self.exp_dir = opts, exp_dir
        self.valid = DataDir(valid_dir)
        # a rank waits at most for the others' share of validation and rank 0's checkpoint writing
        timeout = datetime.timedelta(minutes=30, seconds=len(self.valid.utts))
        self.rank, self.world, self.device = init_distributed(opts.device, timeout)
        self.cuda = self.device.type == "cuda"
        utt2label, self.speakers = training_utterances(DataDir(train_dir), self.valid)
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
        torch.manual_seed(opts.seed)
        self.arch = dict(config=opts.network, ndims=opts.ndims, width=opts.width, dropout=opts.dropout)
        self.objective_spec = dict(n_classes=len(self.speakers), ndims=opts.ndims, head=opts.loss,
                                   options=head_options(opts.loss, opts.dropout, opts.margin, opts.scale),
                                   center_loss_weight=opts.center_loss_weight, center_rate=opts.center_rate,
                                   center_loss_normalize=opts.center_loss_normalize)
        self.model = build_model(**self.arch)
        if opts.sync_bn and self.world > 1:
            if not self.cuda:
                raise ValueError("--sync-bn true needs CUDA devices (torch's SyncBatchNorm has no CPU version)")
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        elif opts.sync_bn:
            logger.info("--sync-bn true: one process, plain BatchNorm")
        self.model.to(self.device, memory_format=torch.channels_last)
        self.objective = JointLoss(**self.objective_spec).to(self.device)
        self.optimizer = torch.optim.Adam([*self.model.parameters(), *self.objective.parameters()],
                                          lr=opts.learning_rate, weight_decay=opts.weight_decay)
        self.epoch, self.step, self.best, self.resumes = 0, 0, (-1.0, 0), []
        self.checkpoints = EpochCheckpoints(exp_dir, opts.average_last)
        if opts.resume and os.path.exists(self.checkpoints.last):
            self._restore(self.checkpoints.last)
        elif opts.resume:
            logger.info(f"--resume: no {self.checkpoints.last} yet, starting from scratch")
        network = _Network(torch.compile(self.model) if opts.compile else self.model, self.objective,
                           self.cuda and opts.bf16)
        self.net = network
        if self.world > 1:
            self.net = nn.parallel.DistributedDataParallel(network, device_ids=[self.device.index] if self.cuda else None)
        logger.info(f"network {opts.network} width {opts.width}: {count_parameters(self.model):,} parameters "
                    f"+ {count_parameters(self.objective):,} in the {opts.loss} head, {len(self.speakers)} classes, "
                    f"{len(self.dataset)} training utterances, {len(self.sampler)} steps/epoch of {opts.batch_size}, "
                    f"device {self.device}, {self.world} process(es)")

    def _restore(self, path):
        state = load_checkpoint(path)
        changes = resume_changes(path, state["options"], dataclasses.asdict(self.opts))
        if state["speakers"] != self.speakers:
            raise CheckpointError(f"{path}: made for {len(state['speakers'])} speakers; "
                                  f"this training data has {len(self.speakers)} (or other speaker ids)")
        try:
            self.model.load_state_dict(state["model"])
            self.objective.load_state_dict(state["loss"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError) as e:
            raise CheckpointError(f"{path}: does not fit this network and loss ({str(e).splitlines()[0]})") from None
        for group in self.optimizer.param_groups:  # what the options say now, not what was saved
            group["lr"], group["weight_decay"] = self.opts.learning_rate, self.opts.weight_decay
        self.epoch, self.step, self.best = state["epoch"], state["step"], tuple(state["best"])
        self.resumes = state["resumes"] + ([{"epoch": self.epoch, "changed": changes}] if changes else [])
        set_rng_state(state["rng"])
        logger.info(f"resumed from {path}: {self.epoch} epoch(s), {self.step} steps done, "
                    f"best validation accuracy {self.best[0]:.2f}% (epoch {self.best[1]})")
        for key, (old, new) in changes.items():
            logger.info(f"resume: --{key.replace('_', '-')} changed from {old} to {new}: applies from now on")

    def _state(self, full):
        state = {"arch": self.arch, "objective": self.objective_spec, "speakers": self.speakers,
                 "model": self.model.state_dict(), "loss": self.objective.state_dict(),
                 "options": dataclasses.asdict(self.opts), "epoch": self.epoch, "step": self.step,
                 "best": list(self.best), "resumes": self.resumes}
        if full:
            state.update(optimizer=self.optimizer.state_dict(), rng=rng_state())
        return state

    def train_step(self, x, y):
        """One optimiser step on a batch already on the device -> (loss, logits), both undetached."""
        opts, steps = self.opts, len(self.sampler)
        lr = options_learning_rate(opts, self.step, steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if opts.spec_augment:
            x = spec_augment(x, opts.freq_masks, opts.freq_mask_width, opts.time_masks, opts.time_mask_width)
        weight = center_loss_weight(self.step, steps, opts.center_loss_weight, opts.center_loss_warmup_epochs)
        loss, logits, embeddings = self.net(x, y, weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.objective.update(embeddings.detach(), y)
        self.step += 1
        return loss, logits

    def train_epoch(self):
        """One pass over the shuffled training crops -> (mean loss, accuracy %). The device is
        synchronised once per ``--log-every`` steps, to read the running figures."""
        opts = self.opts
        self.net.train()
        torch.backends.cudnn.benchmark = self.cuda  # fixed-size training crops: let cuDNN pick kernels
        self.sampler.set_epoch(self.epoch)
        totals, window = [0.0, 0.0, 0], torch.zeros(2, device=self.device)  # loss sum, correct (, samples)
        samples, tick = 0, time.perf_counter()
        for i, (x, y) in enumerate(self.loader, 1):
            x = self.front_end(x.to(self.device, non_blocking=True, memory_format=torch.channels_last))
            y = y.to(self.device, non_blocking=True)
            loss, logits = self.train_step(x, y)
            window += torch.stack([loss.detach().float() * len(y), (logits.argmax(1) == y).sum().float()])
            samples += len(y)
            if i % opts.log_every == 0 or i == len(self.sampler):
                loss_sum, correct = window.tolist()
                seconds = time.perf_counter() - tick
                logger.info(f"epoch {self.epoch + 1} step {i}/{len(self.sampler)} (total {self.step}): "
                            f"loss {loss_sum / samples:.4f} accuracy {100 * correct / samples:.2f}% "
                            f"lr {self.optimizer.param_groups[0]['lr']:.3g} "
                            f"{samples * self.world / seconds:.1f} samples/s")
                totals = [totals[0] + loss_sum, totals[1] + correct, totals[2] + samples]
                window.zero_()
                samples, tick = 0, time.perf_counter()
        return totals[0] / totals[2], 100 * totals[1] / totals[2]

    def validate(self):
        """Top-1 accuracy (%) of the current model on the validation utterances, each process scoring
        every ``world``-th one -> (percent, utterances scored)."""
        self.model.eval()
        self.objective.eval()
        torch.backends.cudnn.benchmark = False  # every padded shape is new: no re-tuning per batch
        if self.world > 1:  # rank 0's BatchNorm statistics everywhere, so the shares score one model
            for buffer in self.model.buffers():
                dist.broadcast(buffer, 0)
        utts = self.valid.utts[self.rank::self.world]
        ranks = identification_ranks(self.model, self.objective.head, self.valid.path,
                                     {u: self.valid.utt2spk[u] for u in utts}, self.speakers, self.device,
                                     self.opts.max_frames)
        counts = torch.tensor([float((ranks <= 1).sum()), float(len(ranks))], dtype=torch.float64,
                              device=self.device)
        if self.world > 1:
            dist.all_reduce(counts)
        correct, n = counts.tolist()
        if n == 0:
            raise ValueError(f"{self.valid.path}: no validation utterance could be scored")
        return 100.0 * correct / n, int(n)

    def run(self):
        """Train epochs ``epoch + 1 .. opts.epochs``, validating and checkpointing after each ->
        (validation top-1 % of final.pt, what final.pt is: "epoch N" or "average of epochs A-B")."""
        if self.rank == 0:
            write_table(os.path.join(self.exp_dir, "spk2label"),
                        [[spk, str(i)] for i, spk in enumerate(self.speakers)])
        if self.epoch >= self.opts.epochs:
            logger.info(f"already trained {self.epoch} epoch(s); nothing to do")
        result = (self.best[0], f"epoch {self.best[1]}")
        while self.epoch < self.opts.epochs:
            torch.manual_seed(_seed(self.opts.seed, self.epoch, self.rank))
            start = time.perf_counter()
            loss, accuracy = self.train_epoch()
            self.epoch += 1
            top1, n = self.validate()
            if self.rank == 0:
                self._log_and_save(loss, accuracy, top1, n, time.perf_counter() - start)
            self._barrier()
            result = (self.best[0], f"epoch {self.best[1]}")
            if self.epoch == self.opts.epochs and self.opts.average_last > 0:
                result = self._average()
        if self.world > 1:
            dist.destroy_process_group()
        return result

    def _barrier(self):
        if self.world > 1:
            dist.barrier()

    def _log_and_save(self, loss, accuracy, top1, n, seconds):
        improved = top1 > self.best[0]
        if improved:
            self.best = (top1, self.epoch)
        logger.info(f"epoch {self.epoch}/{self.opts.epochs}: train loss {loss:.4f} accuracy {accuracy:.2f}% "
                    f"({seconds:.1f} s); validation top-1 {top1:.2f}% of {n} utterances"
                    f"{' (best so far)' if improved else f'; best {self.best[0]:.2f}% at epoch {self.best[1]}'}")
        self.checkpoints.save_epoch(self.epoch, improved, self._state(full=False), self._state(full=True))

    def _average(self):
        """final.pt = the mean of the saved models of the last ``average_last`` epochs, validated."""
        epochs, model, loss = self.checkpoints.average(self.epoch)
        self.model.load_state_dict(model)
        self.objective.load_state_dict(loss)
        top1, n = self.validate()
        what = f"average of epochs {epochs[0]}-{epochs[-1]}"
        if self.rank == 0:
            self.checkpoints.save_average(self._state(full=False), epochs)
            logger.info(f"final.pt = {what}: validation top-1 {top1:.2f}% of {n} utterances "
                        f"(best single epoch {self.best[0]:.2f}% at epoch {self.best[1]})")
        self._barrier()
        return top1, what
