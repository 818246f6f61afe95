"""Hyperparameters from argparse into wandb.config; a training loop logging per epoch."""
import argparse
import math

import trackwell as wandb

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--optimizer", default="adam")
args = parser.parse_args()

run = wandb.init(project="corpus-argparse", config=args, tags=["baseline"], notes="argparse example")
config = wandb.config
for epoch in range(config.epochs):
    loss = math.exp(-config.lr * 10 * (epoch + 1))
    wandb.log({"epoch": epoch, "loss": loss, "acc": 1 - loss})
run.summary["final_acc"] = 1 - loss
wandb.finish()
