print("exitblock-bench: placeholder")
