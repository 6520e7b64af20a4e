"""The OREO critic: a language-model backbone with a scalar head, one value per token position.

A separate model from the policy (as in the paper), so the two have their own optimisers and the
value regression never disturbs the policy's representation. Column t of the output is the value
of the state made of tokens 0..t (the text so far), so V(s) is read at the last prompt token and
the value of "s then action a" at the action's last token.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

HEAD_FILE = "value_head.pt"


class ValueModel(nn.Module):
    def __init__(self, backbone: nn.Module, hidden_size: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.head.weight)  # V starts at 0 everywhere: no arbitrary initial preference
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_pretrained(cls, path: str | Path, dtype: torch.dtype = torch.float32) -> "ValueModel":
        """Backbone from a causal-LM checkpoint (its LM head unused); the head from `value_head.pt` if present."""
        from transformers import AutoModel

        backbone = AutoModel.from_pretrained(path, dtype=dtype)
        model = cls(backbone, backbone.config.hidden_size)
        head = Path(path) / HEAD_FILE
        if head.is_file():
            model.head.load_state_dict(torch.load(head, map_location="cpu", weights_only=True))
        return model

    def save_pretrained(self, path: str | Path) -> None:
        path = Path(path)
        self.backbone.save_pretrained(path)
        torch.save(self.head.state_dict(), path / HEAD_FILE)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, L] values."""
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.head(hidden.float()).squeeze(-1)


def gather_positions(per_position: torch.Tensor, starts: torch.Tensor, width: int) -> torch.Tensor:
    """[B, width] from [B, L]: columns starts[b] .. starts[b] + width - 1 (clamped to L - 1)."""
    offsets = torch.arange(width, device=per_position.device)
    index = (starts[:, None] + offsets[None, :]).clamp(max=per_position.shape[1] - 1)
    return per_position.gather(1, index)
