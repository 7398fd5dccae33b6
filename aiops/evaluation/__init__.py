"""Offline evaluation of the detectors against public benchmarks (NAB); reads files, not in the stream."""
