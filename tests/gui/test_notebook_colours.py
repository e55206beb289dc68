"""The notebook picture and the app's network view colour θ and δ alike (they cannot drift)."""

from __future__ import annotations

import numpy as np

from bpviz.engine import Network, Trainer, UpdateRule
from bpviz.views.network_view import NetworkView
from bpviz.worked.figure import network_picture


def _rgb(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[m : m + 2], 16) for m in (1, 3, 5)]) / 255.0


def test_notebook_picture_uses_the_network_views_colours(qtbot):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(8, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    net = Network([2, 4, 3, 1], activation="tanh", output_activation="sigmoid", seed=2)
    trainer = Trainer(net, X, Y, rule=UpdateRule(lr=0.3), batch_size=8, seed=0)
    trainer.run(25)
    walk = trainer.phases()
    for _ in range(6):  # forward ×3, Err, output δ, δ of hidden layer 2 (layer 1's: not yet)
        phase = next(walk)
    assert (phase.kind, phase.layer) == ("hidden_delta", 2)
    snap = trainer.snapshot()
    view = NetworkView(net.sizes, bias=True)
    qtbot.addWidget(view)
    view.show_snapshot(snap)
    lay = network_picture(net.sizes, snap.weights, snap.biases, snap.delta)

    # Edges: the picture lists, per k and target i, the sources then the bias (−1).
    keys = [
        (k, i, s)
        for k in range(len(net.sizes) - 1)
        for i in range(net.sizes[k + 1])
        for s in [*range(net.sizes[k]), -1]
    ]
    app_edges = dict(zip(view.edge_keys(), view.edge_colors()[:, :3], strict=True))
    assert len(keys) == len(lay.edges) == len(app_edges)
    for key, edge in zip(keys, lay.edges, strict=True):
        np.testing.assert_allclose(_rgb(edge.color), app_edges[key], atol=1 / 255, err_msg=key)

    # Neurons with δ (layers ≥ 1), grey where δ is not computed yet, in both.
    app_nodes = dict(zip(view.neuron_keys(), view.neuron_colors()[:, :3], strict=True))
    drawn = [n for n in lay.nodes if not n.bias][net.sizes[0] :]
    keys = [(l, i) for l in range(1, len(net.sizes)) for i in range(net.sizes[l])]
    for key, node in zip(keys, drawn, strict=True):
        np.testing.assert_allclose(_rgb(node.fill), app_nodes[key], atol=1 / 255, err_msg=key)
    fills = [node.fill for node in drawn]
    assert len(set(fills[:4])) == 1 and len(set(fills[4:])) > 1  # grey layer 1, coloured after
    assert lay.legends[0].range == view.theta_scale.range
    assert lay.legends[1].range == view.delta_scale.range
