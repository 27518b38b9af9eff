"""`musicscape eval`: measures an exported model directory with ONNX Runtime, never torch."""
