"""The bundled models (`models/`) and demo music (`demo/`).

A package so that a wheel carries them as package data; `visualizer.bundled.assets_dir`
finds them in a clone and in an installed wheel alike.
"""
