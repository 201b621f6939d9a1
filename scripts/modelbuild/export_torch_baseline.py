#!/usr/bin/python3
"""Exports the plain PyTorch reference of scripts/modelbuild/reference.py at the full colSmol-256M size
(random weights, float32) with torch.onnx.export, as a speed baseline for the Go-built graphs:
  OUT/vision_encoder.onnx   pixel_values [1,3,512,512] -> image_features [1,64,576]
  OUT/text_embeddings.onnx  inputs_embeds [1,884,576] -> embeddings [1,884,128]
Usage: /usr/bin/python3 scripts/modelbuild/export_torch_baseline.py OUT
The Go benchmark BenchmarkTorchExportBaseline times these files when COLSMOL_TORCH_BASELINE=OUT is set.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

ref.D64 = torch.float32
ref.VISION.update(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)
ref.TEXT.update(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                num_key_value_heads=3, head_dim=64, vocab_size=49280, rms_norm_eps=1e-5, rope_theta=100000.0)


class Vision(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = w

    def forward(self, pixels):
        return ref.vision_forward(self.w, pixels)


class Text(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = w

    def forward(self, embeds, mask, pos):
        h, _ = ref.text_forward(self.w, embeds, mask, pos)
        p = h @ self.w["linear.weight"].T + self.w["linear.bias"]
        p = p / p.norm(dim=-1, keepdim=True)
        return p * mask[..., None].to(p.dtype)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    w = {k: v.contiguous() for k, v in ref.make_weights(retriever=True, tied=False).items()}
    with torch.no_grad():
        torch.onnx.export(Vision(w), (torch.randn(1, 3, 512, 512),), os.path.join(out, "vision_encoder.onnx"),
                          input_names=["pixel_values"], output_names=["image_features"], opset_version=14)
        L = 884
        args = (torch.randn(1, L, 576) * 0.05, torch.ones(1, L, dtype=torch.long), torch.arange(L)[None])
        torch.onnx.export(Text(w), args, os.path.join(out, "text_embeddings.onnx"),
                          input_names=["inputs_embeds", "attention_mask", "position_ids"],
                          output_names=["embeddings"], opset_version=14)
    print("exported to", out)


if __name__ == "__main__":
    main()
