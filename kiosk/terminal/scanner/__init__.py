"""Card scanning: frame sources, barcode decoders and the background decode worker (no Kivy)."""
