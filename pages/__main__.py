from pages.server import main

main()
