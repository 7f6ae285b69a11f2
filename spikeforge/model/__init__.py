"""Model objects: what the user describes (groups, monitors, networks) and the state they own.

Model objects never generate or compile code themselves: they describe their roles to the code
generator, which the network drives.
"""
