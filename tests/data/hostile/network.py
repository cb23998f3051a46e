# base: solution
# status: graded
# score: full
# says: Network is unreachable|Permission denied
# needs: network
# No network inside the sandbox.
import socket
socket.create_connection(("1.1.1.1", 53), timeout=3)
