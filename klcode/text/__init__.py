"""Text: reading corpora (files, directories, stdin, compressed files), tokenizing to ids, counting.

The lowest layer above :mod:`klcode.errors`: nothing here knows of models, codes or measurements.
"""
