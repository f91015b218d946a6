"""Processes of one training: a single process, or DDP under ``torchrun`` (``WORLD_SIZE`` > 1)."""
import os

import torch
import torch.distributed as dist

from pyspk.device import pick_device


def init_distributed(device_name, timeout):
    """(rank, world_size, device) from torchrun's environment; initialises the process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, pick_device(device_name)
    local_rank = int(os.environ["LOCAL_RANK"])
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timeout)
    return dist.get_rank(), world, device
