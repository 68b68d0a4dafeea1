// Word lists for synthetic Chinese names. Picked in SQL by gw_rand, so the
// same seed gives the same names on any server.
export const surnames = [...'王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文']
export const givenChars = [...'国华建明文德志永春秀英兰芳玉梅红军平安福贵富强荣光海云山林桂珍丽勇刚辉成祥树生发学正清松兴昌友元德才富美凤琼艳霞燕敏静宏伟亮超']
export const placeChars = [...'大小新老上下中东西南北龙凤马牛羊石岩沙水河沟箐坝塘坪坡岭山梁湾槽田林竹松柏桃李花草青白黑红黄金银灵盘营寨屯铺堡乐安宁和平兴隆丰顺福寿吉祥长永双三五七']
