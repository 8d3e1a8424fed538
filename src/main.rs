fn main() {
    println!("taizhang");
}
