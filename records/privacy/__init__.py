"""Personal data in the System of Record: legal holds, retention, erasure and the right of access.

A legal hold on a customer or a case suspends retention and erasure for it until released.
"""
