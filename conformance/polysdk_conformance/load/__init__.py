"""`polysdk load`: every SDK under load against the mock, through its own typed methods.

See conformance/PROTOCOL.md (load lines) and ../shared/design/PERFORMANCE.md.
"""
