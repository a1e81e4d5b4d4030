from neurotwin._entry import main

main()
