# base: solution
# status: graded
# score: full
# says: Connection refused|Permission denied|Network is unreachable
# Connects to a listener the test runs on the grader's 127.0.0.1: it must not be reached.
import socket
socket.create_connection(("127.0.0.1", @@PORT@@), timeout=3).sendall(b"reached")
