#!/usr/bin/python3
"""Writes tiny.onnx and tiny_expected.json for the internal/ort tests.

Run with Debian's python3 (python3-onnx, python3-numpy):

    /usr/bin/python3 internal/ort/testdata/make_tiny.py

The graph has one input and one output of each element type the Go package
handles (float32, int64, bool) and a symbolic batch dimension:

    y    = x @ W + b           x: f32 [batch, 4]  -> y: f32 [batch, 3]
    ids2 = ids * 2 + 1         ids: i64 [batch, n] -> ids2: i64 [batch, n]
    inv  = not(mask)           mask: bool [batch, n] -> inv: bool [batch, n]

The expected outputs for fixed inputs are computed here with NumPy, independently of ONNX Runtime.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
W = rng.standard_normal((4, 3)).astype(np.float32)
b = rng.standard_normal((3,)).astype(np.float32)

nodes = [
    helper.make_node("MatMul", ["x", "W"], ["xw"]),
    helper.make_node("Add", ["xw", "b"], ["y"]),
    helper.make_node("Mul", ["ids", "two"], ["ids_x2"]),
    helper.make_node("Add", ["ids_x2", "one"], ["ids2"]),
    helper.make_node("Not", ["mask"], ["inv"]),
]
graph = helper.make_graph(
    nodes,
    "tiny",
    inputs=[
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4]),
        helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "n"]),
        helper.make_tensor_value_info("mask", TensorProto.BOOL, ["batch", "n"]),
    ],
    outputs=[
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3]),
        helper.make_tensor_value_info("ids2", TensorProto.INT64, ["batch", "n"]),
        helper.make_tensor_value_info("inv", TensorProto.BOOL, ["batch", "n"]),
    ],
    initializer=[
        numpy_helper.from_array(W, "W"),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(np.array(2, dtype=np.int64), "two"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="colsmol-test")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, os.path.join(here, "tiny.onnx"))

x = np.arange(8, dtype=np.float32).reshape(2, 4) / 4 - 1
ids = np.array([[1, 2, 3], [40, 50, 60]], dtype=np.int64)
mask = np.array([[True, False, True], [False, False, True]])
expected = {
    "x": x.ravel().tolist(), "x_shape": list(x.shape),
    "ids": ids.ravel().tolist(), "ids_shape": list(ids.shape),
    "mask": mask.ravel().tolist(), "mask_shape": list(mask.shape),
    "y": (x @ W + b).ravel().tolist(), "y_shape": [2, 3],
    "ids2": (ids * 2 + 1).ravel().tolist(),
    "inv": (~mask).ravel().tolist(),
}
with open(os.path.join(here, "tiny_expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
