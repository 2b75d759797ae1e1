print("microgen")
