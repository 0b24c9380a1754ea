"""One declaration per sheet: columns, types, zh-CN/en labels and validation.

The template builder, the reader, the validator, the writer and the store mapping all
read these declarations; nothing else names a sheet's columns.
"""
