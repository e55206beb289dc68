"""Qt views of bpviz: network, loss curve, output map and the colours they share."""
